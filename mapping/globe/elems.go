package globe

// elem identifies an element name the readers care about; eOther is any other.
type elem uint8

const (
	eOther elem = iota
	eExact
	eItems
	eItem
	eDescription
	eLongDescription
	eMultiDescriptions
	eMultiDescription
	eAssortment
	eAvailability
	eDateStart
	eDateEnd
	eCondition
	eIsSalesItem
	eIsPurchaseItem
	eIsStockItem
	eIsSerialNumberItem
	eIsBatchItem
	eIsBackOrderItem
	eIsFractionAllowedItem
	eIsTextItem
	eIsDiscountItem
	eIsServiceItem
	eIsSubAssemblyItem
	eIsAssembledItem
	eIsPriceRegulationItem
	eIsExplodeItem
	eIsPrintItem
	eIsOutsourcedItem
	eSales
	ePrice
	eCurrency
	eValue
	eVAT
	eUnit
	eCosts
	eImage
	eName
	eBinaryData
	eFreeFields
	eFreeTexts
	eFreeText
	eFreeDates
	eFreeDate
	eFreeNumbers
	eFreeNumber
	eFreeYesNos
	eFreeYesNo
	eFreeOptions
	eFreeOption
	eItemCategory
	eGTIN
	eCreated
	eModified
	eItemPrices
	eItemPrice
	ePriceList
	eAccount
	eFactor
	eLineType
	eDiscounts
	eDiscount
	eQuantity
	eAccounts
	ePhone
	eEmail
	eAddresses
	eAddress
	eAddressLine1
	eAddressLine2
	eAddressLine3
	ePostalCode
	eCity
	eState
	eCountry
	eDebtor
	eDebtorInvoice
	eCreditLine
	ePercentage
	eVATNumber
	eChamberOfCommerce
	ePaymentMethod
	ePaymentCondition
	eDaysToPayment
	eDeliveryMethod
	eCategories
	eCategory
	eBlocked
)

// elemNames maps an elem back to its name (for messages).
var elemNames = [...]string{
	eOther:                 "?",
	eExact:                 "eExact",
	eItems:                 "Items",
	eItem:                  "Item",
	eDescription:           "Description",
	eLongDescription:       "LongDescription",
	eMultiDescriptions:     "MultiDescriptions",
	eMultiDescription:      "MultiDescription",
	eAssortment:            "Assortment",
	eAvailability:          "Availability",
	eDateStart:             "DateStart",
	eDateEnd:               "DateEnd",
	eCondition:             "Condition",
	eIsSalesItem:           "IsSalesItem",
	eIsPurchaseItem:        "IsPurchaseItem",
	eIsStockItem:           "IsStockItem",
	eIsSerialNumberItem:    "IsSerialNumberItem",
	eIsBatchItem:           "IsBatchItem",
	eIsBackOrderItem:       "IsBackOrderItem",
	eIsFractionAllowedItem: "IsFractionAllowedItem",
	eIsTextItem:            "IsTextItem",
	eIsDiscountItem:        "IsDiscountItem",
	eIsServiceItem:         "IsServiceItem",
	eIsSubAssemblyItem:     "IsSubAssemblyItem",
	eIsAssembledItem:       "IsAssembledItem",
	eIsPriceRegulationItem: "IsPriceRegulationItem",
	eIsExplodeItem:         "IsExplodeItem",
	eIsPrintItem:           "IsPrintItem",
	eIsOutsourcedItem:      "IsOutsourcedItem",
	eSales:                 "Sales",
	ePrice:                 "Price",
	eCurrency:              "Currency",
	eValue:                 "Value",
	eVAT:                   "VAT",
	eUnit:                  "Unit",
	eCosts:                 "Costs",
	eImage:                 "Image",
	eName:                  "Name",
	eBinaryData:            "BinaryData",
	eFreeFields:            "FreeFields",
	eFreeTexts:             "FreeTexts",
	eFreeText:              "FreeText",
	eFreeDates:             "FreeDates",
	eFreeDate:              "FreeDate",
	eFreeNumbers:           "FreeNumbers",
	eFreeNumber:            "FreeNumber",
	eFreeYesNos:            "FreeYesNos",
	eFreeYesNo:             "FreeYesNo",
	eFreeOptions:           "FreeOptions",
	eFreeOption:            "FreeOption",
	eItemCategory:          "ItemCategory",
	eGTIN:                  "GTIN",
	eCreated:               "Created",
	eModified:              "Modified",
	eItemPrices:            "ItemPrices",
	eItemPrice:             "ItemPrice",
	ePriceList:             "PriceList",
	eAccount:               "Account",
	eFactor:                "Factor",
	eLineType:              "LineType",
	eDiscounts:             "Discounts",
	eDiscount:              "Discount",
	eQuantity:              "Quantity",
	eAccounts:              "Accounts",
	ePhone:                 "Phone",
	eEmail:                 "Email",
	eAddresses:             "Addresses",
	eAddress:               "Address",
	eAddressLine1:          "AddressLine1",
	eAddressLine2:          "AddressLine2",
	eAddressLine3:          "AddressLine3",
	ePostalCode:            "PostalCode",
	eCity:                  "City",
	eState:                 "State",
	eCountry:               "Country",
	eDebtor:                "Debtor",
	eDebtorInvoice:         "DebtorInvoice",
	eCreditLine:            "CreditLine",
	ePercentage:            "Percentage",
	eVATNumber:             "VATNumber",
	eChamberOfCommerce:     "ChamberOfCommerce",
	ePaymentMethod:         "PaymentMethod",
	ePaymentCondition:      "PaymentCondition",
	eDaysToPayment:         "DaysToPayment",
	eDeliveryMethod:        "DeliveryMethod",
	eCategories:            "Categories",
	eCategory:              "Category",
	eBlocked:               "Blocked",
}

// lookup returns the elem for a name as written (no namespace processing).
func lookup(name []byte) elem {
	switch string(name) {
	case "eExact":
		return eExact
	case "Items":
		return eItems
	case "Item":
		return eItem
	case "Description":
		return eDescription
	case "LongDescription":
		return eLongDescription
	case "MultiDescriptions":
		return eMultiDescriptions
	case "MultiDescription":
		return eMultiDescription
	case "Assortment":
		return eAssortment
	case "Availability":
		return eAvailability
	case "DateStart":
		return eDateStart
	case "DateEnd":
		return eDateEnd
	case "Condition":
		return eCondition
	case "IsSalesItem":
		return eIsSalesItem
	case "IsPurchaseItem":
		return eIsPurchaseItem
	case "IsStockItem":
		return eIsStockItem
	case "IsSerialNumberItem":
		return eIsSerialNumberItem
	case "IsBatchItem":
		return eIsBatchItem
	case "IsBackOrderItem":
		return eIsBackOrderItem
	case "IsFractionAllowedItem":
		return eIsFractionAllowedItem
	case "IsTextItem":
		return eIsTextItem
	case "IsDiscountItem":
		return eIsDiscountItem
	case "IsServiceItem":
		return eIsServiceItem
	case "IsSubAssemblyItem":
		return eIsSubAssemblyItem
	case "IsAssembledItem":
		return eIsAssembledItem
	case "IsPriceRegulationItem":
		return eIsPriceRegulationItem
	case "IsExplodeItem":
		return eIsExplodeItem
	case "IsPrintItem":
		return eIsPrintItem
	case "IsOutsourcedItem":
		return eIsOutsourcedItem
	case "Sales":
		return eSales
	case "Price":
		return ePrice
	case "Currency":
		return eCurrency
	case "Value":
		return eValue
	case "VAT":
		return eVAT
	case "Unit":
		return eUnit
	case "Costs":
		return eCosts
	case "Image":
		return eImage
	case "Name":
		return eName
	case "BinaryData":
		return eBinaryData
	case "FreeFields":
		return eFreeFields
	case "FreeTexts":
		return eFreeTexts
	case "FreeText":
		return eFreeText
	case "FreeDates":
		return eFreeDates
	case "FreeDate":
		return eFreeDate
	case "FreeNumbers":
		return eFreeNumbers
	case "FreeNumber":
		return eFreeNumber
	case "FreeYesNos":
		return eFreeYesNos
	case "FreeYesNo":
		return eFreeYesNo
	case "FreeOptions":
		return eFreeOptions
	case "FreeOption":
		return eFreeOption
	case "ItemCategory":
		return eItemCategory
	case "GTIN":
		return eGTIN
	case "Created":
		return eCreated
	case "Modified":
		return eModified
	case "ItemPrices":
		return eItemPrices
	case "ItemPrice":
		return eItemPrice
	case "PriceList":
		return ePriceList
	case "Account":
		return eAccount
	case "Factor":
		return eFactor
	case "LineType":
		return eLineType
	case "Discounts":
		return eDiscounts
	case "Discount":
		return eDiscount
	case "Quantity":
		return eQuantity
	case "Accounts":
		return eAccounts
	case "Phone":
		return ePhone
	case "Email":
		return eEmail
	case "Addresses":
		return eAddresses
	case "Address":
		return eAddress
	case "AddressLine1":
		return eAddressLine1
	case "AddressLine2":
		return eAddressLine2
	case "AddressLine3":
		return eAddressLine3
	case "PostalCode":
		return ePostalCode
	case "City":
		return eCity
	case "State":
		return eState
	case "Country":
		return eCountry
	case "Debtor":
		return eDebtor
	case "DebtorInvoice":
		return eDebtorInvoice
	case "CreditLine":
		return eCreditLine
	case "Percentage":
		return ePercentage
	case "VATNumber":
		return eVATNumber
	case "ChamberOfCommerce":
		return eChamberOfCommerce
	case "PaymentMethod":
		return ePaymentMethod
	case "PaymentCondition":
		return ePaymentCondition
	case "DaysToPayment":
		return eDaysToPayment
	case "DeliveryMethod":
		return eDeliveryMethod
	case "Categories":
		return eCategories
	case "Category":
		return eCategory
	case "Blocked":
		return eBlocked
	}
	return eOther
}
